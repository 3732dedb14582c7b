"""S3 variations service: masters per aspect family and their derivatives.

Filled by the variations issue (#5); empty until then."""
