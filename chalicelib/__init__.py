"""Ship Captain Crew: the logic behind the Chalice routes in app.py."""
