"""leaderboard domain."""
