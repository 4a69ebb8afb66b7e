"""HTTP transport between validators and miners: btauth/1 signing and verification glue."""
