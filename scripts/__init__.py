"""Admin scripts: the local stack, and putting Ship Captain Crew on AWS and keeping it there.

Each script runs as `python scripts/<name>.py --help`; the package form exists so
tests (and scripts/deploy.py) can import them.
"""
