"""Online payment: Stripe Checkout and its webhooks."""
