"""Supervisor viewer: draws the floor and fleet into a pygame Surface (window or PNG)."""
