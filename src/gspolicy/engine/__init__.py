"""Evaluating checked packs on records: the reference interpreter over a pack, with traces."""
