"""Sites of an organization (plants, warehouses, offices): the delivery and pick-up addresses of trade."""
