"""The HTTP surface: the app (app.py), its error shape, access policy and routers. Import what you need from
its modules; importing the package itself loads nothing."""
