"""Reports, the moderation queue, bans and the rate limits that keep Fred out."""
