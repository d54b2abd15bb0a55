"""The HTTP layer: Flask blueprints, content negotiation, CORS and error documents. No RDF logic here."""
