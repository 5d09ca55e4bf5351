@browser
Feature: Selling and taking back through the shop
  In order to see the whole journey the way customers and staff do
  As a store owner
  I want to sell, take back and sell again through the shop's pages

  Scenario: A customer buys through the catalogue
    Given the store sells these products:
      | sku      | name    | colour | size | price | stock |
      | SWT-BK-M | sweater | black  | M    | 40.00 | 3     |
      | JKT-GR-M | jacket  | green  | M    | 95.00 | 1     |
    And a customer called "Ada Lovelace" is registered
    When Ada buys 2 of "black sweater (M)" from the catalogue
    Then her order page should list 2 × black sweater (M)
    And the catalogue should show "black sweater (M)" as "Only 1 left"
    And the catalogue should show "green jacket (M)" as "Only 1 left"

  Scenario: Sold out, brought back, and sold again
    Given the store sells these products:
      | sku      | name   | colour | size | price | stock |
      | JKT-GR-M | jacket | green  | M    | 95.00 | 1     |
    And a customer called "Ada Lovelace" is registered
    And a customer called "Grace Hopper" is registered
    When Ada buys 1 of "green jacket (M)" from the catalogue
    Then the catalogue should show "green jacket (M)" as "Out of stock"
    When Ada returns 1 of "green jacket (M)" from her order page
    Then the catalogue should show "green jacket (M)" as "Only 1 left"
    When Grace buys 1 of "green jacket (M)" from the catalogue
    Then her order page should list 1 × green jacket (M)
    And the catalogue should show "green jacket (M)" as "Out of stock"

  Scenario: A damaged return is refunded and shown on the customer's page
    Given the store sells these products:
      | sku      | name    | colour | size | price | stock |
      | SWT-BK-M | sweater | black  | M    | 40.00 | 3     |
    And a customer called "Ada Lovelace" is registered
    When Ada buys 2 of "black sweater (M)" from the catalogue
    And Ada returns 1 of "black sweater (M)" from her order page, saying it is damaged
    Then her customer page should show £40.00 refunded
    And the catalogue should show "black sweater (M)" as "Only 1 left"
