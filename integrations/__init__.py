"""ERP/CRM/SRM connectors: webhooks out, bulk API in, EDI, cXML PunchOut (built by the integration issue)."""
