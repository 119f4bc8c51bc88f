"""The liability waiver a patron signs before boarding.

The published agreement texts, versioned and pinned by SHA-256 (`agreement`,
`texts/`), the form and its field rules (`form`), the signing rules and the crew's
read of a signed record (`signing`), and the patron's pages at `/g/<trip>/waiver`
(`pages`). Its records (`Waiver`, `Signature`) live in `records`; a signed waiver
is never changed.
"""
