/// The county's HTTP application.
public enum CountyServer {}
