"""`python -m driver PIPELINE --explain`: the walk with the explain handler set (`handlers`) over the run's
own preparation of each task; options and output in `explain`. Nothing runs, nothing is recorded."""
