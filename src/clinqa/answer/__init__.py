"""Answer composition: question triage, sentence selection, structure and rendering."""
