"""The web around the rules: request facts, pages and the edge.

Who is asking and from where (`request_facts`), the plumbing of the HTML pages the
app serves (`pages`: security headers, CSP by hash, errors as pages or JSON), and
the edge routing table CloudFront and the local edge apply (`edge`).
"""
