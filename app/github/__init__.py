"""The GitHub gateway: the one place that talks to GitHub's REST API.

``gateway.GitHubGateway`` is what other packages hold; ``snapshot.gather`` reads exactly what
the rules will look at; ``payloads`` reads webhook bodies leniently.
"""
