"""Boards, ideas, votes, comments, tags and statuses."""
