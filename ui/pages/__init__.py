"""The Gradio pages: the public chat page (`chat.py`) and the admin console (`console/`, a module a tab)."""
