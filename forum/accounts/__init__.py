"""People: accounts, roles, sign-up and sign-in, profiles."""
