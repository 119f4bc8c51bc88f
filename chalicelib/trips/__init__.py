"""Trips and the boats they sail on.

A trip (the API's "event") is the unit everything else hangs from: its schedule,
price and crew (`schedule`), and the fleet with the legal passenger limit each boat
may carry, the six-pack rule included (`fleet`). Its records (`Trip`, `Boat`,
`Activity`) live in `records`; the money, waivers and dock packages build on this one.
"""
