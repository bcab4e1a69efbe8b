"""The typed phone action space: parsing, coordinate spaces, matching and partial-credit rewards."""
