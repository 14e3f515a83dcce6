"""Digital Calibration Certificates (DCC XML), PDF certificates, signing and verification."""
