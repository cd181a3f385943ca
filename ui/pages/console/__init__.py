"""The admin console at `/admin`: `layout.py` assembles the page from one module per tab (`*_tab.py`); the
presenter behind each tab, which calls the operations layer and shapes what the tab shows, is its own
(`*_view.py`, on `view_helpers.ConsoleView`)."""

from ui.pages.console.layout import CSS, admin_auth, build_admin_page

__all__ = ["CSS", "admin_auth", "build_admin_page"]
