"""The crew's accounts and how they log in.

Accounts, roles and who may manage whom, setup links and password changes
(`accounts`); logging in, tokens and their revocation (`auth`); the attempt
counters that keep guessing slow (`throttle`). Its records (`Account`, `Role`)
live in `records`.
"""
