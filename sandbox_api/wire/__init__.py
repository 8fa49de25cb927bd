"""Wire format shared by the resources' schemas: common fields and the search query."""
