"""The figures of the analytics, as pure functions over the ledger's history. See docs/analytics.md.

``history``: what the figures read (invoices with dated settlements, money records) and the
adapters from the stored ledger; ``rates``: conversion with daily rates; ``receivables``:
balances and aging as of a date; ``dso``: days sales outstanding and the at-risk rate;
``collected``: cash in per period; ``ratings``: distribution and movement; ``forecast``: the
13-week cash forecast and its accuracy; ``slipping``: the customers whose overdue grew most over
a week.
"""
