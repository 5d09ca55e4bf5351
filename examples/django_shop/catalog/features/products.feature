Feature: The product list
  Shoppers see what is for sale, with its price and stock.

  Scenario: Products in stock are listed
    Given I have products in the database:
      | name   | price | stock |
      | Teapot | 25.00 | 3     |
      | Kettle | 40.00 | 1     |
    When I open the product list
    Then the page lists "Teapot: 25.00 (3 in stock)"
    And the page lists "Kettle: 40.00 (1 in stock)"
    And there should be 2 products in the database

  Scenario: An empty shop says so
    When I open the product list
    Then the page lists "Nothing for sale"
    And there should be 0 products in the database
