"""The admin console at `/admin`: `layout.py` assembles the page from one module per tab (`*_tab.py`); the
operations behind every tab are `AdminConsole`'s (ui/admin_page.py)."""

from ui.pages.console.layout import CSS, admin_auth, build_admin_page

__all__ = ["CSS", "admin_auth", "build_admin_page"]
