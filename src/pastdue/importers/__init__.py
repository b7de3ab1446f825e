"""Readers that turn outside files into validated rows and problems; they never write."""
