"""Server-rendered pages: layout, navigation, language switch, login and dashboards."""
