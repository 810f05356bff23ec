"""Team reports: the data behind exports (CSV, XLSX, PDF), the reports API and `agility export`."""
