"""The squad: teams, athletes, and their CSV import and export."""
