"""The web view: a details page for every pull request, the hotfix dashboard and the ledger.

Server-rendered from the store (Jinja2, a stylesheet served by the app, no JavaScript build
and no CDN: it works air-gapped). Pages are served only when sign-in is configured or
``WEB_AUTH=none``; otherwise they answer 404 and the API keeps working.
"""
