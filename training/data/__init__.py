"""Raw screenshot episodes: readers, validation, conversion, statistics, synthesis, datasets, export."""
