"""Trading domain: orders and their lifecycle, pre-trade risk rules, the ledger (positions, cash, tax lots)."""
