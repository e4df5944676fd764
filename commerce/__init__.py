"""Transaction services: rfq/, orders/, contracts/, settlement/, logistics/, ratings/ (built by later issues)."""
