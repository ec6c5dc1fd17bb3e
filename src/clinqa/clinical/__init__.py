"""Applying evidence to the patient described: patient context, regimen and drug names, applicability."""
