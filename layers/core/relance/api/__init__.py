"""What every HTTP function shares: the error shape and who the caller is."""
