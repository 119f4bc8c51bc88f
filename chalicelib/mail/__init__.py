"""Every email the app owes and its delivery.

Rendering each email and which record gets which (`emails`), the outbox that
claims, sends and retries what is owed (`outbox`), and sending through SES
(`notifications`). The templates themselves are in `chalicelib/templates/`.
"""
