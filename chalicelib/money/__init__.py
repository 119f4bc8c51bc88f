"""The day's takings: every cent the crew take in or hand back.

Fares and tips logged at the dock and their voids (`payments`), refunds
(`refunds`), the ledger and its CSV for the books (`ledger`), the tips report
(`tips`), the end-of-day cash-up per person (`cashup`) and how cents are written
for people and for the books (`amounts`). Its records (`Payment`, `Refund`,
`Receipt`) live in `records`. Money is integer cents throughout.
"""
