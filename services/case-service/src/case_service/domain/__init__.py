"""Case-service domain: tables, stages and rules. No I/O, no clock: time is passed in."""
