"""At the dock and afloat: who is aboard, and the shore knowing it.

The manifest (who each waiver covers and who is aboard), boarding within the
boat's limit, departure with the manifest sent ashore, return, and the overdue
watch (`manifest`). Its records (`Boarding`, `Passenger`, `Departure`,
`ShoreNotice`) live in `records`.
"""
