"""The public task space that validators draw challenges from and engines may study."""
