"""Identifiers: IDIS/Handle-style handles under the enterprise prefix, GS1 Digital Link, QR codes and labels."""
