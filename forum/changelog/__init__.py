"""Release notes linked to shipped ideas, the public changelog, its Atom feed, and the
post-ship satisfaction answers."""
