"""RFQ operations by use case.

- ``requests``: create an RFQ (invited or open), read it, the buyer's list and the supplier's inbox;
- ``matching``: rank suppliers per line by catalogue fit, price, rating and lead time; invite them (or the top N);
- ``questions``: clarification Q&A visible to every invitee, the asker never named;
- ``quotations``: sealed quotations with revisions until the deadline;
- ``comparison``: the matrix of lines × suppliers after the deadline, in the buyer's units;
- ``award``: award lines (whole or split) to purchase orders (through the ``OrderPlacer`` port) or contracts.
"""
