"""Fixtures shared by the browser tests: headless Chromium (`browser`, defined with the site's
own tests) for the example pages too."""

from test_site import browser

__all__ = ["browser"]
