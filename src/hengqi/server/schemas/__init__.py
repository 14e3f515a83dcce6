"""Request and response bodies of the REST API: separate Create / Update / Public models per resource."""
