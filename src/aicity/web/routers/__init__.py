"""The app's routes, one router per resource; `aicity.web.app.create_app` includes them all."""
