"""The customer portal's pages and documents: HTML in the customer's language, the statement PDF."""
