"""Purchase orders between a buyer and a supplier: creation (cart, award, call-off), approval, supplier
confirmation, fulfilment states, cancellation and change orders, with a timeline of every event."""
