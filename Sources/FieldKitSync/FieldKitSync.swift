/// The site's side of sync with the county.
public enum FieldKitSync {}
