"""The dealer network: its records and a deterministic demo dealer group.

- ``dealer_group.records``: the validated records DMS systems and OEMs push into Turnwise.
- ``dealer_group.schema``: the canonical tables (``TABLES``) and their columns, as exchanged
  in CSV.
- ``dealer_group.demo``: ``generate(DemoSpec(...))`` draws a whole multi-brand group (stores,
  trims, stock, weekly sales shaped by real market data, the OEM offer, advisors, leads);
  ``write_csv`` / ``read_csv`` store it as one CSV per table.
"""
